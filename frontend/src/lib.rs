//! The WebAssembly entry point: hydrate the server-rendered page, nothing else.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_lazy`: the account pages are lazy routes, loaded from their own WASM chunk.
    leptos::mount::hydrate_lazy(app::App);
    // Lets tests (and curious people) see that the page is interactive.
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
