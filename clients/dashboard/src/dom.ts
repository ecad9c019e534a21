// The one DOM helper the console's modules share: an element of index.html by its id.
export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
