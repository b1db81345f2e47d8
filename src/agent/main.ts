import { createLogger, errorText } from '../core/log.ts';
import { Agent } from './agent.ts';
import { parseOptions, USAGE, UsageError } from './options.ts';
import { loadBackend } from './webrtc/load.ts';

/**
 * `npm run agent -- --server … --device … --key …`: the device agent for a Raspberry Pi (or a laptop
 * with --simulate). Runs until SIGTERM/SIGINT; network trouble is retried, never fatal.
 */

async function main(): Promise<void> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`edgecam-agent: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }

  const log = createLogger('info');
  let webrtc: Awaited<ReturnType<typeof loadBackend>>;
  try {
    webrtc = await loadBackend(options, log);
  } catch (error) {
    log.error('cannot serve WebRTC watches', { webrtc: options.webrtc.mode, error: errorText(error) });
    process.exit(1);
  }
  const agent = new Agent(options, log, webrtc);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('agent stopping', { signal });
    agent.stop().then(
      () => {
        log.info('agent stopped');
        process.exit(0);
      },
      (error) => {
        log.error('agent did not stop cleanly', { error: errorText(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A rejected promise that slipped through is a bug in one operation: log it and carry on.
  process.on('unhandledRejection', (error) => log.error('unhandled rejection', { error: errorText(error) }));
  // A thrown exception leaves the process in an unknown state (Node says not to resume): exit, and let
  // the service manager (Restart=always) start a fresh agent, which the state file makes a quiet restart.
  process.on('uncaughtException', (error) => {
    log.error('uncaught exception, exiting', { error: errorText(error) });
    process.exit(1);
  });
  agent.start();
}

await main();
