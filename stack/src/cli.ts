/**
 * `npm run stack:up | stack:down | stack:status | stack:reset` — the local stack (src/index.ts) from the command
 * line. `up` and `down` take server names to act on some only (`npm run stack:down -- rabbitmq`). STACK_DIR and
 * STACK_PORT_OFFSET select another stack than the main one.
 */
import { relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '@tandem/config';
import { localStack, type ServerName, StackError, stackLocationFromEnv } from './index.ts';

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const say = (message: string) =>
  console.log(
    `${paint(36, 'stack')} ${message.startsWith('✓') ? paint(32, '✓') + message.slice(1) : message}`,
  );

const location = stackLocationFromEnv();
const stack = localStack({ ...location, progress: say });
const shown = (path: string) => (path.startsWith(projectRoot) ? relative(projectRoot, path) : path);

const commands: Record<string, (names: readonly ServerName[]) => Promise<void>> = {
  async up(names) {
    await stack.up(names);
    say(`ready; connection settings in ${shown(stack.envFile)}`);
  },
  down: (names) => stack.down(names),
  async reset() {
    await stack.reset();
    say('data wiped; `npm run stack:up` starts afresh');
  },
  async status() {
    const rows = await stack.status();
    for (const row of rows) {
      const state =
        row.state === 'running'
          ? `${paint(32, 'running')}  pid ${row.pid}  ${row.detail}`
          : row.state === 'stopped'
            ? paint(31, 'stopped')
            : `${paint(33, 'not answering')}  pid ${row.pid}: ${row.detail}`;
      console.log(
        `${row.name.padEnd(9)} ${row.ports
          .map((p) => `:${p}`)
          .join(',')
          .padEnd(12)} ${state}`,
      );
    }
    if (!rows.every((row) => row.state === 'running')) process.exitCode = 1;
  },
};

const name = process.argv[2] ?? '';
const command = commands[name];
if (!command) {
  console.error(`usage: npm run stack:<${Object.keys(commands).join('|')}> [-- server…]`);
  process.exit(2);
}
try {
  await command(process.argv.slice(3) as ServerName[]);
} catch (error) {
  console.error(
    `${paint(31, 'stack: error:')} ${error instanceof StackError ? error.message : (error as Error).stack}`,
  );
  process.exitCode = 1;
}
// Client libraries may leave sockets closing; the command is done.
await sleep(0);
process.exit();
