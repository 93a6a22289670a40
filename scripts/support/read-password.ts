/** Asks for a password twice on the terminal without echoing it. */
import readline from 'node:readline';

function askHidden(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) return Promise.reject(new Error('no terminal to ask for a password on; use --password-stdin'));
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    // Echo nothing typed after the prompt.
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    out._writeToOutput = (s: string) => {
      if (s.startsWith(prompt)) process.stderr.write(prompt);
    };
    rl.question(prompt, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

export async function readPassword(prompt: string, again: string): Promise<string> {
  const first = await askHidden(prompt);
  if ((await askHidden(again)) !== first) throw new Error('the passwords differ');
  return first;
}
