return {functions = {shout = function(s) return s:upper() .. "!" end}}
