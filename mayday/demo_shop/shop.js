// The demo shop's only script: the basket total and a pretend checkout. Nothing is sent anywhere.
"use strict";

const PRICE = 39;
const DELIVERY = 4.9;
const euro = (amount) => `€${amount.toFixed(2)}`;

function updateBasket() {
  const quantity = Number(document.getElementById("quantity").value);
  document.getElementById("basket-qty").textContent = String(quantity);
  document.getElementById("basket-items").textContent = euro(PRICE * quantity);
  document.getElementById("basket-total").textContent = euro(PRICE * quantity + DELIVERY);
  document.getElementById("cart-count").textContent = `Basket (${quantity})`;
}

function placeOrder(event) {
  event.preventDefault();
  const form = event.target;
  const error = document.getElementById("error");
  const name = form.elements.name.value.trim();
  const email = form.elements.email.value.trim();
  const card = form.elements.card.value.replace(/\s+/g, "");
  let problem = "";
  if (!name) problem = "Please enter your name.";
  else if (!/^[^@\s]+@[^@\s]+$/.test(email)) problem = "Please enter a valid email address.";
  else if (!/^\d{12,19}$/.test(card)) problem = "Please enter a card number (12 to 19 digits).";
  error.textContent = problem;
  error.hidden = !problem;
  if (problem) return;
  const number = `KC-${Math.floor(100000 + Math.random() * 900000)}`;
  // The customer's details are masked for the agent here too (data-mayday-mask), as in the form.
  const masked = (text) => {
    const span = document.createElement("span");
    span.dataset.maydayMask = "";
    span.textContent = text;
    return span;
  };
  const total = document.getElementById("basket-total").textContent;
  document.getElementById("confirmation-text").replaceChildren(
    `Order ${number} is placed. A confirmation is on its way to `,
    masked(email),
    `; we charged ${total} to the card ending in `,
    masked(card.slice(-4)),
    ".",
  );
  form.hidden = true;
  const confirmation = document.getElementById("confirmation");
  confirmation.hidden = false;
  confirmation.focus();
}

document.getElementById("quantity").addEventListener("change", updateBasket);
document.getElementById("order").addEventListener("submit", placeOrder);
