import { performance } from 'node:perf_hooks';
import { type ConnectedTarget, connectTargets, disconnect, frameAt, stampOf, type TargetSetup } from './load-relay.ts';
import { cpuSeconds, runQueueSeconds } from './proc-stat.ts';
import { Samples, summarize } from './stats.ts';
import { collectGarbage, sleep } from './ws-util.ts';

/**
 * The fixed-rate relay: K pairs per target, each viewer sending `rate` frames/s; one-way latency from
 * the stamp in each frame. All targets are connected at once, warmed up in one unmeasured round, and
 * measured in turns (edgecam, the byte forwarder, the JSON forwarder, then again in a rotated order), so
 * a few seconds in which this machine runs slower fall on every target alike, not on whichever happened
 * to be measured then: in one window per target, one such stall of 100 ms delayed 1 % of a window's
 * messages and set its p99 alone.
 */

export interface RelayRateTask {
  kind: 'relay-rate';
  targets: TargetSetup[];
  pairs: number;
  rate: number;
  size: number;
  /** Traffic before each turn's measurement starts. */
  warmupMs: number;
  /** Measured time per target, in `turns` turns. */
  measureMs: number;
  turns: number;
}

/** Between turns: what is in flight arrives and the server idles before the next target's turn. */
const DRAIN_MS = 300;
/**
 * Within DRAIN_MS: the load generator collects its garbage this long after a window, once what was sent
 * in it has normally arrived (a frame still in flight then is recorded after the collection, later).
 */
const IN_FLIGHT_MS = 100;

interface Target extends ConnectedTarget {
  latencies: Samples;
  /** The measured windows so far, [start, end] in performance.now() ms. */
  windows: [number, number][];
  /** The latencies of each window (turn) alone: how much the machine varied between turns. */
  turnLatencies: Samples[];
  /**
   * How late this process sent each turn's frames against their schedule. When it stalls, the frames
   * it owes go out together and the target works them off as one burst: in one run, 8 turns whose
   * frames went out with a p99 lateness of 8–56 ms had latency p99s of 10–39 ms.
   */
  turnSendLateness: Samples[];
  sentInWindow: number;
  delivered: number;
  cpuSeconds: number;
  waitingSeconds: number;
  /** The time over which cpuSeconds and waitingSeconds were read. */
  cpuReadSeconds: number;
}

export async function runRelayRate(task: RelayRateTask): Promise<Record<string, unknown>> {
  const expected = (task.pairs * task.rate * task.measureMs) / 1000;
  const targets = await connectTargets(
    task.targets,
    task.size,
    task.pairs,
    (connected): Target => ({
      ...connected,
      latencies: new Samples(expected),
      windows: [],
      turnLatencies: [],
      turnSendLateness: [],
      sentInWindow: 0,
      delivered: 0,
      cpuSeconds: 0,
      waitingSeconds: 0,
      cpuReadSeconds: 0,
    }),
    (target, data) => record(target, data, performance.now()),
  );
  // One unmeasured round first, as in the max relay: what setting up the pairs leaves to do (a major
  // collection, code optimised again for the relay) lands in it, not in a target's first measured turn.
  // Over 86 earlier runs without it, every target's first turn had the worst tail: edgecam's p99 was over
  // 20 ms in 22 % of first turns against 13 % of later ones, the byte forwarder's in 6 % against 2 %.
  for (const target of targets) {
    await drive(target, task.rate, 2 * task.warmupMs, 0, false);
    await sleep(DRAIN_MS);
  }
  await sleep(200);
  collectGarbage();

  const turnMs = task.measureMs / task.turns;
  for (let turn = 0; turn < task.turns; turn++) {
    for (let k = 0; k < targets.length; k++) {
      await drive(targets[(turn + k) % targets.length] as Target, task.rate, task.warmupMs, turnMs);
      // This process's own major collections (weak callbacks and incremental marking, 20-40 ms of lag)
      // fell inside windows, and the frames it owed meanwhile went out as one burst. Collected here,
      // between turns, the turns whose frames went out over 10 ms late (p99) fell from 8 and 5 of 15
      // to 1 and 1 in two runs each way.
      await sleep(IN_FLIGHT_MS);
      collectGarbage();
      await sleep(DRAIN_MS - IN_FLIGHT_MS);
    }
  }

  const result: Record<string, unknown> = {};
  for (const target of targets) {
    const closedEarly = disconnect(target);
    const seconds = task.measureMs / 1000;
    result[target.name] = {
      setupMs: target.setupMs,
      sentInWindow: target.sentInWindow,
      delivered: target.delivered,
      lost: target.sentInWindow - target.delivered,
      closedEarly,
      perSecond: target.delivered / seconds,
      latency: summarize(target.latencies.values()),
      turnP99: target.turnLatencies.map((turn) => Number(summarize(turn.values()).p99.toFixed(2))),
      turnSendLateP99: target.turnSendLateness.map((turn) => Number(summarize(turn.values()).p99.toFixed(2))),
      serverCpu: Number((target.cpuSeconds / target.cpuReadSeconds).toFixed(2)),
      serverWaiting: Number((target.waitingSeconds / target.cpuReadSeconds).toFixed(3)),
    };
  }
  return result;
}

/** A frame sent inside one of its target's windows: its latency, whenever it arrives. */
function record(target: Target, data: Buffer, now: number): void {
  const sent = stampOf(data);
  for (let i = target.windows.length - 1; i >= 0; i--) {
    const [start, end] = target.windows[i] as [number, number];
    if (sent > end) return;
    if (sent >= start) {
      target.delivered++;
      target.latencies.push(now - sent);
      target.turnLatencies[i]?.push(now - sent);
      return;
    }
  }
}

/**
 * One turn: every pair of `target` sends `rate` frames/s, spread evenly, for `warmupMs` + `measureMs`;
 * `measured` false sends the same traffic and records nothing.
 */
async function drive(target: Target, rate: number, warmupMs: number, measureMs: number, measured = true): Promise<void> {
  const period = 1000 / rate;
  const start = performance.now();
  const windowStart = start + warmupMs;
  const windowEnd = windowStart + measureMs;
  const lateness = new Samples(measured ? (target.pairs.length * rate * measureMs) / 1000 : 0);
  if (measured) {
    target.windows.push([windowStart, windowEnd]);
    target.turnLatencies.push(new Samples((target.pairs.length * rate * measureMs) / 1000));
    target.turnSendLateness.push(lateness);
  }
  target.pairs.forEach((pair, i) => {
    pair.next = start + (i / target.pairs.length) * period;
  });
  let cpuAtStart = Number.NaN;
  let waitingAtStart = Number.NaN;
  let readAt = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (measured && now >= windowStart && Number.isNaN(cpuAtStart)) {
        cpuAtStart = cpuSeconds(target.pid);
        waitingAtStart = runQueueSeconds(target.pid);
        readAt = now;
      }
      if (now > windowEnd) {
        clearInterval(timer);
        // A stall of this process longer than the whole window leaves no start reading: count nothing.
        if (!Number.isNaN(cpuAtStart)) {
          target.cpuSeconds += cpuSeconds(target.pid) - cpuAtStart;
          target.waitingSeconds += runQueueSeconds(target.pid) - waitingAtStart;
          target.cpuReadSeconds += (performance.now() - readAt) / 1000;
        }
        return resolve();
      }
      for (const pair of target.pairs) {
        while (pair.next <= now) {
          // Rounded as the stamp is, so a frame counted as sent in the window is also recorded in it.
          const t = Math.round(performance.now() * 1000) / 1000;
          pair.viewer.send(frameAt(pair, t));
          if (measured && t >= windowStart && t <= windowEnd) {
            target.sentInWindow++;
            lateness.push(t - pair.next);
          }
          pair.next += period;
        }
      }
    }, 2);
  });
}
