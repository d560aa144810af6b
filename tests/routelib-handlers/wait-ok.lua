-- down: 5
pools {
    near = { backends = { "{b5}", "{b6}" } },
    far = { options = { seed = "far" }, backends = { "{b5}", "{b7}" } },
}
routes { default = route_anyok { children = { "near", "far" } } }
