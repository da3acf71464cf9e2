// A minimal QMP client: enough to ask the guest to power down cleanly. QEMU as PID 1 ends at once
// on SIGTERM (the guest's disks see a pulled plug), so orchestrators should call
// `startvm powerdown` first (a Kubernetes preStop hook, `docker exec`).
import { createConnection } from 'node:net';

export interface PowerdownResult {
  /** True when QEMU closed the QMP connection (it exited) within the timeout. */
  exited: boolean;
}

/** Sends system_powerdown and waits until QEMU goes away or the timeout passes. */
export function systemPowerdown(socketPath: string, timeoutMs: number): Promise<PowerdownResult> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let buffer = '';
    let sent = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ exited: false });
    }, timeoutMs);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot talk to QEMU at ${socketPath}: ${error.message} (is the VM running, with exec-kvm's qmp option on?)`));
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const message = JSON.parse(buffer.slice(0, newline)) as { QMP?: unknown; return?: unknown; error?: { desc: string } };
        buffer = buffer.slice(newline + 1);
        if (message.error) {
          clearTimeout(timer);
          socket.destroy();
          reject(new Error(`QEMU refused: ${message.error.desc}`));
          return;
        }
        if (message.QMP) socket.write('{"execute":"qmp_capabilities"}\n');
        else if (message.return !== undefined && !sent) {
          sent = true;
          socket.write('{"execute":"system_powerdown"}\n');
        }
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ exited: sent });
    });
  });
}
