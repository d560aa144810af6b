-- down: 4
pools {
    one = { backends = { "{b3}", "{b4}" } },
    two = { backends = { "{b5}", "{b6}", "{b7}" } },
}
routes { default = route_worst { children = { "one", "two" } } }
