// A pad to draw a digit on with a mouse, pen or finger. White ink on black, like the
// training data; each finished stroke sends the whole picture to Python as a PNG data URL.
export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const canvas = parentElement.querySelector("canvas");
  const clearButton = parentElement.querySelector("button");
  const pen = canvas.getContext("2d");
  let drawing = false;

  function wipe() {
    pen.fillStyle = "#000";
    pen.fillRect(0, 0, canvas.width, canvas.height);
  }

  function position(event) {
    const box = canvas.getBoundingClientRect();
    return [
      ((event.clientX - box.left) * canvas.width) / box.width,
      ((event.clientY - box.top) * canvas.height) / box.height,
    ];
  }

  pen.strokeStyle = "#fff";
  pen.lineWidth = canvas.width / 9;
  pen.lineCap = "round";
  pen.lineJoin = "round";
  wipe();
  // Streamlit may mount the component again on a rerun: redraw what Python last received.
  if (data) {
    const previous = new Image();
    previous.onload = () => pen.drawImage(previous, 0, 0);
    previous.src = data;
  }

  canvas.onpointerdown = (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = position(event);
    pen.beginPath();
    pen.moveTo(x, y);
    pen.lineTo(x, y);
    pen.stroke();
  };
  canvas.onpointermove = (event) => {
    if (!drawing) return;
    const [x, y] = position(event);
    pen.lineTo(x, y);
    pen.stroke();
  };
  canvas.onpointerup = () => {
    if (!drawing) return;
    drawing = false;
    setStateValue("image", canvas.toDataURL("image/png"));
  };
  clearButton.onclick = () => {
    wipe();
    setStateValue("image", null);
  };
}
