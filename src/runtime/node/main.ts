import { run } from './serve.ts';

/** `npm start`: the server on Node.js. */
run('node');
