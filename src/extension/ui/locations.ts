/** Opening a source location from a report (owner declarations, allocation sites, class definitions). */
import * as fs from 'fs';
import * as vscode from 'vscode';
import { UserError } from '../errors';
import type { SourceLocation } from '../../../protocol/report';

export async function openLocation(
  location: SourceLocation,
  viewColumn?: vscode.ViewColumn,
): Promise<vscode.TextEditor> {
  let { file, line, column } = location;
  // The original source (after source maps) is preferred; its generated file is the fallback.
  if (!fs.existsSync(file) && location.generated && fs.existsSync(location.generated.file))
    ({ file, line, column } = location.generated);
  if (!fs.existsSync(file)) {
    throw new UserError(
      `The source file ${file} is not on this machine. If the snapshot came from another machine or a container, open the matching folder here.`,
    );
  }
  const position = new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1));
  const editor = await vscode.window.showTextDocument(vscode.Uri.file(file), {
    selection: new vscode.Range(position, position),
    viewColumn,
    preserveFocus: false,
  });
  editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}

/** `file:line` relative to the workspace when inside it. */
export function shortLocation(location: SourceLocation | undefined): string {
  if (!location) return '';
  return `${vscode.workspace.asRelativePath(location.file, false)}:${location.line}`;
}
