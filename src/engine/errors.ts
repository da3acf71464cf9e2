// Errors the engine raises: they name the stage and the direction, and keep the cause.

export class StageError extends Error {
  readonly stage: string;
  constructor(stage: string, direction: 'apply' | 'rollback' | 'load' | 'preflight' | 'plan', cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const message =
      direction === 'preflight' ? `stage "${stage}" cannot run: ${why}; nothing was changed` : `stage "${stage}" failed${direction === 'apply' ? '' : ` during ${direction}`}: ${why}`;
    super(message, { cause });
    this.name = 'StageError';
    this.stage = stage;
  }
}

export class InterruptedError extends Error {
  readonly signalName: string;
  constructor(signalName: string, stage: string | undefined) {
    super(`interrupted by ${signalName}${stage ? ` during stage "${stage}"` : ''}`);
    this.name = 'InterruptedError';
    this.signalName = signalName;
  }
}

/** A usage or configuration problem the user must fix: exit code 2 for usage, 1 for problems found. */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}
