/** The load-test Job (loadtest/kustomization.yaml) runs the same k6 scripts as `npm run loadtest`, pinned alike. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rendered } from '../src/combinations.ts';
import { find, ofKind } from '../src/manifests.ts';
import { fromRoot } from '../src/paths.ts';

describe('loadtest kustomization', () => {
  const objects = rendered('loadtest');

  it('holds every script of loadtest/k6 in a ConfigMap that the Job mounts', () => {
    const [configMap] = ofKind(objects, 'ConfigMap');
    const data = (configMap as { data?: Record<string, string> } | undefined)?.data ?? {};
    for (const script of readdirSync(fromRoot('loadtest', 'k6')).filter((f) => f.endsWith('.js'))) {
      expect(data[script], script).toBe(readFileSync(fromRoot('loadtest', 'k6', script), 'utf8'));
    }
    const job = JSON.stringify(find(objects, 'Job', 'loadtest'));
    expect(job).toContain(`"name":"${configMap?.metadata.name}"`);
  });

  it('pins the grafana/k6 image to the version install-k6.sh builds', () => {
    const pinned = /version=\$\{K6_VERSION:-v([\d.]+)\}/.exec(
      readFileSync(fromRoot('loadtest', 'install-k6.sh'), 'utf8'),
    );
    expect(pinned?.[1]).toBeDefined();
    expect(JSON.stringify(find(objects, 'Job', 'loadtest'))).toContain(`"image":"grafana/k6:${pinned?.[1]}"`);
  });
});
