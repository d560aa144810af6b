local co = coroutine.create(function() pcall(coroutine.yield) end) --!
