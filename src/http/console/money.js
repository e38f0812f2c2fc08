// Prices in the open show's currency (ISO 4217, `show.currency`). The API's `*_cents`
// fields are minor units of that currency, which need not be hundredths: JPY has none,
// KWD has thousandths. The browser's Intl data knows each currency's digits.

import { app } from "./app.js";

const formats = new Map();

function formatOf(currency) {
  let f = formats.get(currency);
  if (!f) {
    try {
      f = new Intl.NumberFormat(undefined, { style: "currency", currency });
    } catch {
      // A code this browser does not know: plain digits with the code beside them.
      f = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    formats.set(currency, f);
  }
  return f;
}

/** The open show's currency (USD until its snapshot arrives). */
export function showCurrency() {
  return app.state?.show?.currency || "USD";
}

/** Digits after the decimal point of `currency`'s minor unit (USD 2, JPY 0, KWD 3). */
export function minorDigits(currency = showCurrency()) {
  return formatOf(currency).resolvedOptions().maximumFractionDigits;
}

/** Minor units as money in `currency` (default: the open show's), e.g. "€45.00". */
export function price(minor, currency = showCurrency()) {
  const f = formatOf(currency);
  const amount = (Number(minor) || 0) / 10 ** minorDigits(currency);
  return f.resolvedOptions().style === "currency" ? f.format(amount) : `${f.format(amount)} ${currency}`;
}

/** A decimal amount as typed ("45.5") in minor units of `currency`; NaN when not a number. */
export function toMinor(text, currency = showCurrency()) {
  return Math.round(Number(text) * 10 ** minorDigits(currency));
}

/** Minor units as the decimal text an amount input holds ("45.50"). */
export function toDecimalText(minor, currency = showCurrency()) {
  const digits = minorDigits(currency);
  return (minor / 10 ** digits).toFixed(digits);
}
