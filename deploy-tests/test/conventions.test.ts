import { describe, expect, it } from 'vitest';
import { combinations, rendered } from '../src/combinations.ts';
import { serviceEnv } from '../src/env.ts';
import { conventionRules } from '../src/rules.ts';

describe.each(combinations().filter((c) => c.app))('$dir', ({ dir }) => {
  it.each(Object.entries(conventionRules))('%s', (_name, rule) => {
    expect(rule(rendered(dir))).toEqual([]);
  });

  it('serviceEnv: every variable is read by the service, and the whole parses with its config schema', () => {
    expect(serviceEnv(rendered(dir))).toEqual([]);
  });
});
