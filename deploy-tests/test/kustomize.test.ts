import { describe, expect, it } from 'vitest';
import { progressEvery } from '../src/kustomize.ts';

describe('the kustomize install progress', () => {
  it('logs one line every N compiled packages, whatever the downloads in between', () => {
    const lines: string[] = [];
    const progress = progressEvery((line) => lines.push(line), 100);
    for (let compiled = 0; compiled <= 250; compiled += 1) progress({ downloaded: 3, compiled });
    progress({ downloaded: 4, compiled: 250 });
    expect(lines).toEqual([
      '3 modules downloaded, 100 packages compiled',
      '3 modules downloaded, 200 packages compiled',
    ]);
  });
});
