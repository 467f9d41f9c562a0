// Draws every ```mermaid block (a <div class="mermaid">) with the Mermaid copied from node_modules.
mermaid.initialize({ startOnLoad: true, securityLevel: 'strict' });
