import { describe, expect, it } from 'vitest';
import { combinations, rendered } from '../src/combinations.ts';
import { CrdValidator } from '../src/crds.ts';
import { id } from '../src/manifests.ts';

const validator = new CrdValidator();

describe.each(combinations())('$dir', ({ dir }) => {
  it('every object is a known kind, and every custom resource is valid for its CRD', () => {
    const problems = rendered(dir).flatMap((object) =>
      validator.validate(object).map((problem) => `${id(object)}: ${problem}`),
    );
    expect(problems).toEqual([]);
  });
});
