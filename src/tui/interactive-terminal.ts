/**
 * Environment variables that make ink render only the final frame, as if its output went to a CI
 * log. ink reads them once, when it is first imported.
 */
const CI_MARKERS = ['CI', 'CONTINUOUS_INTEGRATION'] as const;

/**
 * Lets ink draw live frames on a real terminal even when the shell exports `CI` (CI runners,
 * some dev containers): without this the full-screen dashboard stays blank until it exits.
 * Call before the first import of ink.
 */
export function claimInteractiveTerminal(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of CI_MARKERS) delete env[name];
}
