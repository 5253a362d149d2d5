// Moves the playhead over the piano roll as the audio plays; a click on the roll seeks there.
// The roll's data attributes give its time axis: left/right as fractions of the picture's width,
// start (where the audio begins on the roll's clock) and end (the roll's last second).
"use strict";
(function () {
  function follow(roll) {
    var audio = document.getElementById(roll.dataset.audio);
    var head = roll.querySelector(".playhead");
    if (!audio || !head) { return; }
    var left = parseFloat(roll.dataset.left), right = parseFloat(roll.dataset.right);
    var start = parseFloat(roll.dataset.start), end = parseFloat(roll.dataset.end);
    function place() {
      var t = Math.min(Math.max((start + audio.currentTime) / end, 0), 1);
      head.style.left = ((left + (right - left) * t) * 100).toFixed(3) + "%";
      roll.dataset.position = audio.currentTime.toFixed(3);
    }
    function tick() {
      place();
      if (!audio.paused && !audio.ended) { window.requestAnimationFrame(tick); }
    }
    audio.addEventListener("play", function () { roll.classList.add("playing"); tick(); });
    audio.addEventListener("pause", function () { roll.classList.remove("playing"); place(); });
    audio.addEventListener("timeupdate", place);
    audio.addEventListener("seeked", place);
    roll.addEventListener("click", function (event) {
      var box = roll.getBoundingClientRect();
      var x = (event.clientX - box.left) / box.width;
      var t = ((x - left) / (right - left)) * end - start;
      if (isFinite(audio.duration)) { audio.currentTime = Math.min(Math.max(t, 0), audio.duration); }
    });
    place();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".roll[data-audio]").forEach(follow);
  });
})();
