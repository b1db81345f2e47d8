import { run } from '../node/serve.ts';

/**
 * `npm run start:deno`: the same server on Deno, through Deno's Node compatibility (`node:http`,
 * `ws`, the same SQLite store). Not `Deno.serve` with `Deno.upgradeWebSocket`: that buffers every
 * frame, up to 64 MiB, before the server can refuse it as larger than MAX_MESSAGE_BYTES, and offers no
 * option to lower that; `ws` refuses it from the frame's header, as on Node.
 */
run('deno');
