// Writes docs/http-api.md from the OpenAPI document: npm run docs:http
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../src/core/http/openapi/document.ts';
import { httpApiMarkdown } from './http-api-markdown.ts';

writeFileSync(new URL('../docs/http-api.md', import.meta.url), httpApiMarkdown(openApiDocument()));
console.log('wrote docs/http-api.md');
