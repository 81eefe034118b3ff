/** `value` without its undefined properties, so that `{ ...defaults, ...definedOnly(options) }` keeps the defaults. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
