-- down: 3
pools {
    main = { backends = { "{b0}", "{b1}", "{b2}" } },
    shadow = { backends = { "{b3}", "{b4}" } },
}
routes { default = route_mirror { child = "main", child_mirror = "shadow" } }
