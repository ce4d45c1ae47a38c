# Plugins (methods and suites) register themselves from static initializers. They are OBJECT
# libraries linked straight into each executable, so the linker cannot drop an unreferenced one.
#
#   repro_add_method(<name> <sources...> [LIBS <targets...>])   one line per plugin in methods/CMakeLists.txt
#   repro_add_suite(<name> <sources...> [LIBS <targets...>])    likewise in suites/CMakeLists.txt
#   repro_link_plugins(<target> [METHODS_ONLY])                 executables that need every plugin

function(_repro_add_plugin kind base name)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  set(target repro_${kind}_${name})
  add_library(${target} OBJECT ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${target} PUBLIC ${base} ${ARG_LIBS})
  repro_use_pch(${target})
  set_property(GLOBAL APPEND PROPERTY REPRO_PLUGIN_TARGETS_${kind} ${target})
endfunction()

function(repro_add_method name)
  _repro_add_plugin(method repro_methods ${name} ${ARGN})
endfunction()

function(repro_add_suite name)
  _repro_add_plugin(suite repro_suites ${name} ${ARGN})
endfunction()

function(repro_link_plugins target)
  cmake_parse_arguments(ARG "METHODS_ONLY" "" "" ${ARGN})
  get_property(plugins GLOBAL PROPERTY REPRO_PLUGIN_TARGETS_method)
  if(NOT ARG_METHODS_ONLY)
    get_property(suites GLOBAL PROPERTY REPRO_PLUGIN_TARGETS_suite)
    list(APPEND plugins ${suites})
  endif()
  # Linking an OBJECT library directly puts its object files into the executable.
  foreach(p IN LISTS plugins)
    target_link_libraries(${target} PRIVATE ${p})
  endforeach()
endfunction()
