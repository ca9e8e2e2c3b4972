/**
 * The "Tune this cell" command: in the cell toolbar and the cell context menu of notebooks (both
 * declared in schema/tune-cell.json), it opens the form (tuneForm.ts) for the active code cell.
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';

import { openTuneForm } from './tuneForm';

export const COMMAND = 'autotune-nb:tune-cell';

/** Three sliders: "tune". */
const tuneIcon = new LabIcon({
  name: 'autotune-nb:tune',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<path d="M3 5h10v2H3zm14 0h4v2h-4zm-2-2h2v6h-2zM3 11h4v2H3zm8 0h10v2H11zm-2-2h2v6H9zM3 17h12v2H3zm16 0h2v2h-2zm-2-2h2v6h-2z"/>' +
    '</g></svg>'
});

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'autotune-nb-labextension:tune-cell',
  description: 'A "Tune this cell" button that writes the cell\'s %%autotune line.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker) => {
    const activeCodeCell = () => {
      const cell = tracker.activeCell;
      return tracker.currentWidget && cell && cell.model.type === 'code' ? cell : null;
    };
    app.commands.addCommand(COMMAND, {
      label: 'Tune this cell',
      caption: "Tune this cell: write or edit its %%autotune line (checked by the kernel with the magic's rules)",
      icon: tuneIcon,
      isEnabled: () => activeCodeCell() !== null,
      execute: () => {
        const panel = tracker.currentWidget;
        const cell = activeCodeCell();
        if (!panel || !cell) {
          return;
        }
        const text = cell.model.sharedModel;
        return openTuneForm(
          { read: () => text.getSource(), write: source => text.setSource(source) },
          panel.sessionContext.session?.kernel
        );
      }
    });
  }
};

export default plugin;
