/** Where a command writes its text: the process's stdout and stderr, or a caller's (the tests run commands in their own process: runMeridian). */
export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: CommandOutput = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};
