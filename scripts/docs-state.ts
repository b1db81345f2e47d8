// Writes docs/state.md from the state schema: npm run docs:state
import { writeFileSync } from 'node:fs';
import { stateMarkdown } from '../src/core/state/describe.ts';

writeFileSync(new URL('../docs/state.md', import.meta.url), stateMarkdown());
console.log('wrote docs/state.md');
