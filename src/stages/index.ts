// The built-in stages, in the order a default profile runs them.
import { StageRegistry } from '../engine/registry.ts';
import capture from './capture.ts';
import bridge from './bridge.ts';
import readdress from './readdress.ts';
import dhcp from './dhcp.ts';
import execKvm from './exec-kvm.ts';

export const builtinStages = [capture, bridge, readdress, dhcp, execKvm] as const;

export const builtinRegistry = (): StageRegistry => new StageRegistry(builtinStages);
