/**
 * VS Code's side of the `leak-lens` debug type: the adapter runs as its own Node process (the same file other
 * editors start), initial launch.json configurations, and resolution of an empty configuration (F5 without a
 * launch.json) to "launch the active file".
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { DEBUG_TYPE } from '../../../protocol/adapter';
import { log } from '../log';

export class AdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly adapterPath: string) {}

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
    log().info(`starting the leak-lens debug adapter for "${session.name}": ${this.adapterPath}`);
    // In desktop VS Code process.execPath is Electron; ELECTRON_RUN_AS_NODE makes it a plain Node.
    return new vscode.DebugAdapterExecutable(process.execPath, [this.adapterPath], {
      env: { ELECTRON_RUN_AS_NODE: '1' },
    });
  }
}

const JS_LANGUAGES = new Set(['javascript', 'typescript', 'javascriptreact', 'typescriptreact']);

export class ConfigurationProvider implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [
      {
        type: DEBUG_TYPE,
        request: 'launch',
        name: 'Leak Lens: Launch Program',
        program: '${file}',
        cwd: '${workspaceFolder}',
      },
      {
        type: DEBUG_TYPE,
        request: 'attach',
        name: 'Leak Lens: Attach to Process',
        processId: '${command:PickProcess}',
      },
    ];
  }

  resolveDebugConfiguration(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration | undefined {
    if (!config.type && !config.request && !config.name) {
      // F5 with no launch.json: launch the JavaScript file in the active editor.
      const doc = vscode.window.activeTextEditor?.document;
      if (!doc || !JS_LANGUAGES.has(doc.languageId) || doc.uri.scheme !== 'file') {
        void vscode.window.showErrorMessage(
          'Leak Lens needs a program to launch: open its main JavaScript file, or add a "leak-lens" configuration to launch.json.',
        );
        return undefined;
      }
      return {
        type: DEBUG_TYPE,
        request: 'launch',
        name: `Leak Lens: ${path.basename(doc.uri.fsPath)}`,
        program: doc.uri.fsPath,
        cwd: folder?.uri.fsPath ?? path.dirname(doc.uri.fsPath),
      };
    }
    if (config.request !== 'launch' && config.request !== 'attach') {
      void vscode.window.showErrorMessage(
        `A "leak-lens" configuration needs "request": "launch" or "attach" (got ${JSON.stringify(config.request)}).`,
      );
      return undefined;
    }
    return config;
  }
}
