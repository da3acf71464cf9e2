// process.execve, which replaces this process (same PID) with another program.

export type Exec = (file: string, args: readonly string[], env: NodeJS.ProcessEnv) => never;

/** process.execve (Node.js 22.15 and later; the types startvm builds with may not know it), or undefined. */
export const processExecve = (): Exec | undefined => {
  const execve = (process as unknown as { execve?: Exec }).execve;
  return typeof execve === 'function' ? execve : undefined;
};
