/**
 * Undo stack for everything the lab starts (browsers, tcpdump, namespaces, temp files).
 * Each resource registers its own undo as soon as it exists, so an error or Ctrl-C at any
 * point removes exactly what was made so far — and nothing the lab did not make.
 */
type Undo = { what: string; run: () => void | Promise<void> };

const stack: Undo[] = [];
let signalsHooked = false;

export function onCleanup(what: string, run: () => void | Promise<void>): void {
  stack.push({ what, run });
  hookSignals();
}

/** Runs every registered undo, newest first; one failing undo does not stop the others. */
export async function cleanupAll(): Promise<void> {
  while (stack.length) {
    const u = stack.pop()!;
    try {
      await u.run();
    } catch (e) {
      process.stderr.write(`lab: cleanup of ${u.what} failed: ${(e as Error).message}\n`);
    }
  }
}

function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`lab: ${sig}, cleaning up\n`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}
