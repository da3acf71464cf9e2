// Stages by name, in an explicit list: no discovery by file name, no duplicates.
import type { Stage } from './stage.ts';
import type { StageCatalog } from '../profile/semantic.ts';

export class StageRegistry {
  readonly #stages = new Map<string, Stage<any>>();

  constructor(stages: readonly Stage<any>[] = []) {
    for (const stage of stages) this.register(stage);
  }

  register(stage: Stage<any>): void {
    if (this.#stages.has(stage.name)) throw new Error(`a stage named "${stage.name}" is already registered`);
    this.#stages.set(stage.name, stage);
  }

  get(name: string): Stage<any> | undefined {
    return this.#stages.get(name);
  }

  names(): string[] {
    return [...this.#stages.keys()].sort();
  }

  /** The order rules of the registered stages, for profile checks. */
  readonly catalog: StageCatalog = (name) => this.#stages.get(name);
}
