/** Command-line flags of `npm run bench`; `--smoke` shrinks everything for the test. */

export interface Options {
  runtime: 'node' | 'deno';
  smoke: boolean;
  out: string;
  /** Pairs for the max-throughput relay. */
  pairsMax: number;
  /** Pair counts for the fixed-rate latency relay. */
  pairsLatency: number[];
  rate: number;
  size: number;
  subscribers: number[];
  idle: number;
  connectConcurrency: number;
  warmupMs: number;
  measureMs: number;
  /**
   * The fixed-rate relay's measured time per target, taken in turns (bench/load-relay-rate.ts). Longer
   * than `measureMs`: in 3 s (60,000 messages at K=1000) the p99 is set by the single worst hiccup of
   * either process, not by the distribution.
   */
  latencyMs: number;
  /**
   * The broadcast's measured time per target (at most `maxChanges` changes), taken in turns. Longer
   * than `measureMs`: at N=5,000 a change takes about 55 ms, so in 3 s the p99 was the worst change.
   */
  broadcastMs: number;
  maxChanges: number;
  /** The fleet scenario: devices registered, and how many of them connect. */
  fleet: number;
  fleetOnline: number;
  /** Scenarios to run (all by default). */
  only: string[];
  /** Node runtime only: write a V8 CPU profile of the server into this directory. */
  cpuProf: string | undefined;
  /** Where to write allocation profiles of the server and the baselines (Node only). */
  allocProf: string | undefined;
}

const list = (value: string) => value.split(',').map((v) => Number(v.trim()));

export function parseArgs(argv: string[]): Options {
  const smoke = argv.includes('--smoke');
  const options: Options = smoke
    ? {
        runtime: 'node',
        smoke,
        out: 'bench/results',
        pairsMax: 5,
        pairsLatency: [5],
        rate: 20,
        size: 300,
        subscribers: [10],
        idle: 50,
        connectConcurrency: 5,
        warmupMs: 200,
        measureMs: 800,
        latencyMs: 800,
        broadcastMs: 800,
        maxChanges: 50,
        fleet: 300,
        fleetOnline: 60,
        only: [],
        cpuProf: undefined,
        allocProf: undefined,
      }
    : {
        runtime: 'node',
        smoke,
        out: 'bench/results',
        pairsMax: 100,
        pairsLatency: [100, 1000],
        rate: 20,
        size: 300,
        subscribers: [100, 1000, 5000],
        idle: 10_000,
        connectConcurrency: 50,
        warmupMs: 1000,
        measureMs: 3000,
        latencyMs: 10_000,
        broadcastMs: 9000,
        maxChanges: 500,
        fleet: 10_000,
        fleetOnline: 2_000,
        only: [],
        cpuProf: undefined,
        allocProf: undefined,
      };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === '--smoke') continue;
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--runtime') {
      if (value !== 'node' && value !== 'deno') throw new Error('--runtime is node or deno');
      options.runtime = value;
    } else if (flag === '--out') options.out = value;
    else if (flag === '--pairs') options.pairsMax = Number(value);
    else if (flag === '--latency-pairs') options.pairsLatency = list(value);
    else if (flag === '--rate') options.rate = Number(value);
    else if (flag === '--size') options.size = Number(value);
    else if (flag === '--subscribers') options.subscribers = list(value);
    else if (flag === '--idle') options.idle = Number(value);
    else if (flag === '--concurrency') options.connectConcurrency = Number(value);
    else if (flag === '--warmup-ms') options.warmupMs = Number(value);
    else if (flag === '--measure-ms') options.measureMs = Number(value);
    else if (flag === '--latency-ms') options.latencyMs = Number(value);
    else if (flag === '--broadcast-ms') options.broadcastMs = Number(value);
    else if (flag === '--max-changes') options.maxChanges = Number(value);
    else if (flag === '--fleet') options.fleet = Number(value);
    else if (flag === '--fleet-online') options.fleetOnline = Number(value);
    else if (flag === '--only') options.only = value.split(',').map((v) => v.trim());
    else if (flag === '--cpu-prof') options.cpuProf = value;
    else if (flag === '--alloc-prof') options.allocProf = value;
    else throw new Error(`unknown flag ${flag}`);
  }
  return options;
}
