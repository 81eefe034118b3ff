import { describe, expect, it } from 'vitest';
import { staleFiles } from '../scripts/check-generated.ts';
import { generatorFlags } from '../scripts/generate.ts';
import { loaderOptions } from '../src/index.ts';

describe('generated types', () => {
  it('are not stale (same check as `npm run check:generated`)', { timeout: 30_000 }, () => {
    expect(staleFiles()).toEqual([]);
  });

  it('are generated with the options the package is loaded with', () => {
    expect(loaderOptions).toEqual({
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    expect(generatorFlags).toEqual(
      expect.arrayContaining([
        '--grpcLib=@grpc/grpc-js',
        '--keepCase',
        `--longs=${loaderOptions.longs.name}`,
        `--enums=${loaderOptions.enums.name}`,
        '--defaults',
        '--oneofs',
      ]),
    );
  });
});
