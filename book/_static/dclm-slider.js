// Website sliders (dclm.widgets.static_slider): each range input picks one of the figures
// drawn when the page was built; no kernel, no network.
document.addEventListener("DOMContentLoaded", () => {
  for (const slider of document.querySelectorAll(".dclm-slider")) {
    const frames = JSON.parse(slider.querySelector("script.dclm-slider-frames").textContent);
    const inputs = Array.from(slider.querySelectorAll("input[type=range]"));
    const figure = slider.querySelector("img.dclm-slider-figure");
    const show = () => {
      for (const input of inputs) {
        const values = JSON.parse(input.dataset.values);
        input.parentElement.querySelector("output").textContent = String(values[Number(input.value)]);
      }
      const frame = frames[inputs.map((input) => input.value).join("|")];
      if (frame !== undefined) figure.src = frame;
    };
    for (const input of inputs) input.addEventListener("input", show);
  }
});
