-- An uppercase host resolves (DNS ignores case), so the proxy works, but no
-- Kubernetes Service or pod name has uppercase letters.
-- expect: loads
-- mclint: finding:proxy-backend-malformed
-- answer: STORED
pools { main = { backends = { "LOCALHOST:41001" } } }
routes { default = route_direct { child = "main" } }
