#!/usr/bin/env node
// `oclif manifest` lists commands in the order its loader happened to finish them; sort them so
// the committed manifest only changes when a command does.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../oclif.manifest.json', import.meta.url);
const manifest = JSON.parse(readFileSync(file, 'utf8'));
manifest.commands = Object.fromEntries(Object.entries(manifest.commands).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
