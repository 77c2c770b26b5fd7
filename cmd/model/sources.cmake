# Sources of cmd/model: target_sources(aiot_cli PRIVATE model/FILE.cpp)
target_sources(aiot_cli PRIVATE
  model/model.cpp
  model/add.cpp
  model/sign.cpp
  model/verify.cpp
  model/list.cpp
  model/show.cpp
  model/diff.cpp
  model/card.cpp
  model/keygen.cpp
)
