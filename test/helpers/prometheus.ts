import { execFileSync } from 'node:child_process';

/**
 * Prometheus text parsed by the Prometheus project's own Python client (Debian's
 * python3-prometheus-client): a line it cannot read fails the test. Counters keep their `_total`.
 */

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

const PARSE = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
families = [
    {"name": f.name, "type": f.type, "help": f.documentation,
     "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
    for f in text_string_to_metric_families(sys.stdin.read())
]
print(json.dumps(families))
`;

export function parsePrometheus(text: string): Family[] {
  // Debian's python3, where apt installed the parser (a pyenv python first on PATH would lack it).
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', PARSE], { input: text, encoding: 'utf8' })) as Family[];
}

/** One sample's value: `name` as written (with `_total`), and its labels. */
export function sampleOf(families: Family[], name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families)
    for (const sample of family.samples)
      if (sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) return sample.value;
  return undefined;
}
