/** The bench's progress lines on stdout, each after a `bench` label (cyan on a terminal). */
const colour = process.stdout.isTTY && !process.env.NO_COLOR;

export const say = (message: string) =>
  console.log(`${colour ? '\x1b[36mbench\x1b[0m' : 'bench'} ${message}`);
