/**
 * A service's JSON log line (pino) as a line a person reads in a terminal: time, level, message, then the other
 * fields as key=value. `npm start` shows these when its output is a terminal; piped (CI, a file) it passes the JSON
 * on untouched, for machines.
 */

const levels: Record<number, { name: string; colour: number }> = {
  10: { name: 'TRACE', colour: 90 },
  20: { name: 'DEBUG', colour: 90 },
  30: { name: 'INFO', colour: 32 },
  40: { name: 'WARN', colour: 33 },
  50: { name: 'ERROR', colour: 31 },
  60: { name: 'FATAL', colour: 41 },
};

/** Fields every line has, or that the label before the line already says. */
const shown = new Set(['level', 'time', 'msg', 'service', 'name', 'pid', 'hostname']);

function value(field: unknown): string {
  if (typeof field === 'string') return /[\s="]/.test(field) ? JSON.stringify(field) : field;
  if (field !== null && typeof field === 'object' && 'message' in field) {
    // An error: its type and message, not its stack (the JSON line, when piped, keeps the stack).
    const error = field as { type?: string; message?: string };
    return JSON.stringify(error.type ? `${error.type}: ${error.message}` : error.message);
  }
  return JSON.stringify(field);
}

export function readable(line: string, colour: boolean): string {
  if (!line.startsWith('{')) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry.level !== 'number' || typeof entry.msg !== 'string') return line;
  const paint = (code: number, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const level = levels[entry.level] ?? { name: String(entry.level), colour: 0 };
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(entry)
    .filter(([key]) => !shown.has(key))
    .map(([key, field]) => `${paint(90, `${key}=`)}${value(field)}`);
  return [paint(90, time), paint(level.colour, level.name.padEnd(5)), entry.msg, ...fields]
    .filter(Boolean)
    .join(' ');
}
