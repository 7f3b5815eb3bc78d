import type { Command } from 'commander';
import { UserError } from '../../util/errors';

// Placeholder until the extract command lands (being written now); registered so the CLI builds.
export function registerExtract(program: Command): void {
  program.command('extract').description('(not yet available)').allowUnknownOption().action(() => {
    throw new UserError('spymate extract is not available in this build yet');
  });
}
