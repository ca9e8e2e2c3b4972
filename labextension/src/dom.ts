/**
 * DOM building shared by the renderer (index.ts) and the "Tune this cell" form (tuneForm.ts).
 */

/** A new element with an optional class name and text. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}
