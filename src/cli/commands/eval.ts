import type { Command } from 'commander';
import { UserError } from '../../util/errors';

// Placeholder until the eval command lands (being written now); registered so the CLI builds.
export function registerEval(program: Command): void {
  program.command('eval').description('(not yet available)').allowUnknownOption().action(() => {
    throw new UserError('spymate eval is not available in this build yet');
  });
}
