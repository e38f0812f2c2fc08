// A new claim is hard to miss: its item's group on the board flashes, the Claims tab counts
// it on a phone, the aria-live region names it (views/claims.js), and, when the operator
// turned it on, a short tone plays (Web Audio: no sound file, nothing for the CSP to allow).

import { app } from "./app.js";
import { byId } from "./dom.js";
import { countOnBoardTab } from "./tabs.js";

const SOUND_KEY = "showfeed.sound";

let audio = null;

function soundOn() {
  return localStorage.getItem(SOUND_KEY) === "on";
}

function renderSoundToggle() {
  const on = soundOn();
  const button = byId("sound-toggle");
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? "Sound on" : "Sound off";
}

/** Wires the sound toggle (off until the operator turns it on: browsers need a click anyway). */
export function wireAlerts() {
  renderSoundToggle();
  byId("sound-toggle").addEventListener("click", () => {
    localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
    renderSoundToggle();
    if (soundOn()) beep();
  });
}

/** A new claim on item `number` (a live insert, not a snapshot's). */
export function alertNewClaim(number) {
  const group = app.groupEls.get(number);
  if (group) {
    group.classList.remove("new-claim");
    // Restart the animation for a second claim on the same item.
    void group.offsetWidth;
    group.classList.add("new-claim");
  }
  countOnBoardTab();
  const body = document.body;
  body.dataset.claimAlerts = String(Number(body.dataset.claimAlerts || 0) + 1);
  if (soundOn()) beep();
}

function beep() {
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.12, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.25);
    document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
  } catch {
    // No audio output (a headless or muted browser): the flash still shows.
  }
}
