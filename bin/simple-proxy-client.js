#!/usr/bin/env node
import { keepYoungGenerationSmall } from '../dist/cli/young-generation.js';

// Before the rest loads (see young-generation.ts): a dynamic import, as static ones load first.
keepYoungGenerationSmall();
const { run } = await import('../dist/cli/run.js');

await run('client', process.argv.slice(2));
