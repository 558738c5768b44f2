/* The Sample Gazette's lazy loader (the lazysizes pattern): images wait in data-src and
   data-srcset until the page has loaded, then move into src and srcset. */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("img[data-src]").forEach(function (img) {
    if (img.dataset.srcset) { img.srcset = img.dataset.srcset; }
    img.src = img.dataset.src;
    img.classList.add("lazyloaded");
  });
});
