#!/usr/bin/env node
import { dropPrivileges, invokingUser } from '../capture/privileges';
import { errorLine, EXIT_RUNTIME, runMain } from '../util/errors';
import { newProgram, parseProgram } from './program';
import { registerExtract } from './commands/extract';
import { registerTrain } from './commands/train';
import { registerEval } from './commands/eval';
import { registerPredict } from './commands/predict';
import { registerTrainCalls } from './commands/train-calls';

// Nothing here needs root: under sudo, become the invoking user before any file is opened.
const user = invokingUser();
if (user) dropPrivileges(user);
// Interrupted: outputs not yet renamed into place are removed on the way out (features/output.ts),
// the files they would have replaced stay as they were.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    errorLine(`spymate: interrupted (${signal}); existing outputs are left as they were`);
    process.exit(EXIT_RUNTIME);
  });
}

runMain('spymate', async () => {
  const program = newProgram('spymate', 'Extract video-call window features, train and evaluate presence models.');
  registerExtract(program);
  registerTrain(program);
  registerEval(program);
  registerPredict(program);
  registerTrainCalls(program);
  // no command: the help, on stderr as for any other usage error, and its exit code
  if (process.argv.length <= 2) {
    process.stderr.write(program.helpInformation());
    return 2;
  }
  await parseProgram(program, process.argv);
  return 0;
});
