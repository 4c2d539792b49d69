Session.require("supervisor").then(function (user) { document.getElementById("status").textContent = user.name; document.body.dataset.state = "ready"; });
