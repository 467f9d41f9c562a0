#!/usr/bin/env node
import { keepYoungGenerationSmall } from '../dist/cli/young-generation.js';

// Before the rest loads (see young-generation.ts): a dynamic import, as static ones load first.
keepYoungGenerationSmall();
const { main } = await import('../dist/cli/entry.js');

await main('server', process.argv.slice(2));
