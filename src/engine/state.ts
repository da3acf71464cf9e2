// Values the stages share, in one typed bag. Network stages add their own fields (see src/net/types.ts);
// a stage of your own may keep anything JSON-serialisable under its name.
import type { CapturedNetwork, PreparedNic } from '../net/types.ts';

export interface PipelineState {
  /** Stages that have applied (or started to apply) changes, in order: the rollback journal. */
  applied?: string[];
  /** What capture read from the container before anything changed. */
  captured?: CapturedNetwork;
  /** One entry per interface the VM takes over: bridge, VM port, addresses. Filled by bridge/readdress. */
  nics?: PreparedNic[];
  [stage: string]: unknown;
}
